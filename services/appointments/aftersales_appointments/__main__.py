from aftersales_runtime.service import serve

from aftersales_appointments.app import create_app
from aftersales_appointments.settings import AppointmentsSettings

settings = AppointmentsSettings()
app = create_app(settings)
serve(app, settings)
