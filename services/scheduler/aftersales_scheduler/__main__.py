from aftersales_runtime.service import serve

from aftersales_scheduler.app import create_app
from aftersales_scheduler.settings import SchedulerSettings

settings = SchedulerSettings()
app = create_app(settings)
serve(app, settings)
