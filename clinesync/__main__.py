"""`python -m clinesync`."""

from clinesync.cli import main

if __name__ == "__main__":
    main()
