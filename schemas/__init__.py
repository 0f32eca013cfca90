"""The JSON Schema of organization files, shipped inside the package as clinesync.schemas."""
