from aftersales_runtime.service import serve

from aftersales_contact.app import create_app
from aftersales_contact.settings import ContactSettings

settings = ContactSettings()
app = create_app(settings)
serve(app, settings)
