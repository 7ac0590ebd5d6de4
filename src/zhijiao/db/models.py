"""Imports every ORM model so that metadata (and Alembic) sees all tables."""

from zhijiao.org import models as _org  # noqa: F401
from zhijiao.security import models as _security  # noqa: F401
from zhijiao.subjects import models as _subjects  # noqa: F401
from zhijiao.monitoring import models as _monitoring  # noqa: F401
from zhijiao.settings import models as _settings  # noqa: F401
from zhijiao.checkins import models as _checkins  # noqa: F401
from zhijiao.supervision.assessments import models as _assessments  # noqa: F401
from zhijiao.supervision.daily import models as _daily  # noqa: F401
from zhijiao.supervision.leave import models as _leave  # noqa: F401
from zhijiao.supervision.levels import models as _levels  # noqa: F401
from zhijiao.supervision.notices import models as _notices  # noqa: F401
from zhijiao.supervision.plans import models as _plans  # noqa: F401
from zhijiao.supervision.reception import models as _reception  # noqa: F401
from zhijiao.supervision.sanctions import models as _sanctions  # noqa: F401
from zhijiao.supervision.transfer import models as _transfer  # noqa: F401
from zhijiao.documents import models as _documents  # noqa: F401
from zhijiao.tasks import models as _tasks  # noqa: F401
from zhijiao.command import models as _command  # noqa: F401
from zhijiao.jobs import models as _jobs  # noqa: F401
from zhijiao.db.base import Base

metadata = Base.metadata
