"""What every test of the squad's own code shares."""

import os

# Never let litellm fetch its cost map from the internet, whatever a test imports first.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
