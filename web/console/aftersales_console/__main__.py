import uvicorn

from aftersales_console.app import create_app
from aftersales_console.settings import ConsoleSettings

settings = ConsoleSettings()
uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port, log_config=None)
