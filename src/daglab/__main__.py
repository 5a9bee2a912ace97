"""``python -m daglab``."""

from daglab._cli import main

if __name__ == "__main__":
    main()
