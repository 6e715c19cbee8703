from aftersales_runtime.service import serve

from aftersales_complaints.app import create_app
from aftersales_complaints.settings import ComplaintsSettings

settings = ComplaintsSettings()
app = create_app(settings)
serve(app, settings)
