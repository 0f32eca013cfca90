"""Files: reading organization files, checking them (the schema and the CS rules), resolving references."""
