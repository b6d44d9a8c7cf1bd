"""Webhook concerns, one router each, composed here in one place."""

from gidgethub.routing import Router

from . import check_run, installation, workflow_run

router = Router(workflow_run.router, check_run.router, installation.router)

# The events the app subscribes to (app.yml) and handles; anything else is acknowledged and counted.
EVENTS = {"workflow_run", "check_run", "installation", "installation_repositories", "pull_request",
          "issue_comment", "ping"}
