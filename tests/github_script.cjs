// Runs an actions/github-script script as the action does (an async function of require, github, context),
// against a fake GitHub API: the comments it lists come from the state file, the calls it makes go back there.
const fs = require("fs");
const [scriptFile, stateFile] = process.argv.slice(2);
const state = JSON.parse(fs.readFileSync(stateFile, "utf8"));
const calls = [];
const record = (name) => async (args) => {
  calls.push({ call: name, ...args });
  return { data: {} };
};
const github = {
  paginate: async (method, args) => (await method(args)).data,
  rest: {
    issues: {
      listComments: async () => ({ data: state.comments || [] }),
      listForRepo: async () => ({ data: state.issues || [] }),
      listLabelsOnIssue: async () => ({ data: (state.labels || []).map((name) => ({ name })) }),
      addLabels: record("addLabels"),
      removeLabel: record("removeLabel"),
      create: record("create"),
      update: record("update"),
      updateComment: record("updateComment"),
      createComment: record("createComment"),
    },
  },
};
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
new AsyncFunction("require", "github", "context", fs.readFileSync(scriptFile, "utf8"))(require, github, state.context)
  .then(() => fs.writeFileSync(stateFile, JSON.stringify({ ...state, calls })))
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });
