"""The inference log: every answer the service gives, kept as evidence (issue 25).

The service (`squadkit.service`) builds one `InferenceRecord` per feature call and hands it
to an `InferenceLogWriter`, which inserts batches into an `InferenceStore` off the request
path; callers' feedback goes through a `FeedbackWriter`, batched too but awaited. Storage
is SQLAlchemy Core with Alembic migrations: SQLite by default, PostgreSQL for several
replicas. Nothing here imports FastAPI, so the CLI (`squad inference-log`, whose
`show` reads one inference through `lookup`) and later readers (harvest) use it alone.
"""

from .feedback import (
    FEEDBACK,
    FeedbackConfig,
    FeedbackMetric,
    FeedbackRow,
    InvalidFeedbackValue,
    PendingFeedback,
    episode_exists,
    find_inference,
    load_feedback_config,
    record_feedback,
    record_feedbacks,
    store_feedback,
)
from .feedback_writer import FeedbackWriter
from .ids import uuid7
from .ledger import InFlightBatch, UnsettledRows, WriteLedger, reclaim
from .lookup import describe_inference
from .record import Content, InferenceRecord, canonical_json, content_of, inputs_sha256
from .store import INFERENCES, InferenceLogUnavailable, InferenceStore, default_sqlite_url
from .writer import InferenceLogWriter, WriterStats

__all__ = [
    "FEEDBACK",
    "INFERENCES",
    "Content",
    "FeedbackConfig",
    "FeedbackMetric",
    "FeedbackRow",
    "FeedbackWriter",
    "InFlightBatch",
    "InferenceLogUnavailable",
    "InferenceLogWriter",
    "InferenceRecord",
    "InferenceStore",
    "InvalidFeedbackValue",
    "PendingFeedback",
    "UnsettledRows",
    "WriteLedger",
    "WriterStats",
    "canonical_json",
    "content_of",
    "default_sqlite_url",
    "describe_inference",
    "episode_exists",
    "find_inference",
    "inputs_sha256",
    "load_feedback_config",
    "reclaim",
    "record_feedback",
    "record_feedbacks",
    "store_feedback",
    "uuid7",
]
