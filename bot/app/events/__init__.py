"""Webhook concerns, one router each, composed here in one place."""

from gidgethub.routing import Router

from . import check_run, installation, issue_comment, pull_request, workflow_run

router = Router(workflow_run.router, check_run.router, pull_request.router, issue_comment.router,
                installation.router)

# The events the app subscribes to (app.yml) and handles; anything else is acknowledged and counted.
EVENTS = {"workflow_run", "check_run", "installation", "installation_repositories", "pull_request",
          "issue_comment", "ping"}
