"""``python -m gfx.graphgym --cfg <file or built-in name> [--repeat N] [--grid FILE]
[key value ...]``: run a GraphGym experiment or a grid search."""
import sys

if __name__ == "__main__":
    from gfx.graphgym.main import main
    sys.exit(main())
