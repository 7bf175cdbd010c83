import sys
from pathlib import Path

# Tests import the shared helpers in this folder (schema_checks) by module name.
sys.path.insert(0, str(Path(__file__).parent))
