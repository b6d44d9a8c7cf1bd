"""The GitHub App: web server, event routers, job store, worker, pipeline and publishing."""
