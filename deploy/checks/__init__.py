"""Offline checks of what ops deploy: Dockerfiles, docker-compose.yml, deploy/k8s (`make
deploy-check`, `python -m deploy.checks [--root DIR]`). No Docker engine, no cluster needed."""
