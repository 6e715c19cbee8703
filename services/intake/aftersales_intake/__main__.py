from aftersales_runtime.service import serve

from aftersales_intake.app import create_app
from aftersales_intake.settings import IntakeSettings

settings = IntakeSettings()
app = create_app(settings)
serve(app, settings)
