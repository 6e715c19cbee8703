"""The reporting service (D12, D23-D28); `rebuild --database X` rebuilds its read models."""

import sys

if len(sys.argv) > 1 and sys.argv[1] == "rebuild":
    from aftersales_reporting.rebuild import main

    main(sys.argv[2:])
else:
    from aftersales_runtime.service import serve

    from aftersales_reporting.app import create_app
    from aftersales_reporting.settings import ReportingSettings

    settings = ReportingSettings()
    serve(create_app(settings), settings)
