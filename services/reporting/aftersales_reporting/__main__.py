from aftersales_runtime.service import serve

from aftersales_reporting.app import create_app
from aftersales_reporting.settings import ReportingSettings

settings = ReportingSettings()
app = create_app(settings)
serve(app, settings)
