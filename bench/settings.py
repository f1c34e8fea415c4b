"""What `make bench` serves: the production settings plus the bench-only views (bench.urls).

bench.run starts every process with DJANGO_SETTINGS_MODULE=bench.settings; production never
loads this module, so no bench URL or setting exists there.
"""

from mini_crm.env import env_required
from mini_crm.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
# The bench views list client names: each answers 404 unless the request carries this secret
# in X-Bench-Token (bench.run makes a new one per run).
BENCH_TOKEN = env_required("BENCH_TOKEN", reason="for the bench views (bench.settings)")
