"""The JSON Schemas of organization files and of the project configuration, shipped inside the package as
clinesync.schemas; `clinesync/contract.py` reads them."""
