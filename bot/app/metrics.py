"""Counters for ``GET /metrics`` (Prometheus text format)."""

from __future__ import annotations

from collections import Counter

HELP = {
    "dbf_deliveries_total": "Webhook deliveries by event and outcome",
    "dbf_jobs_total": "Jobs processed, by outcome",
    "dbf_github_calls_total": "Requests made to GitHub, by method",
    "dbf_pull_requests_opened_total": "Pull requests opened or updated",
}


class Metrics:
    def __init__(self):
        self.counters: dict[str, Counter] = {name: Counter() for name in HELP}
        self.github_calls: Counter = self.counters["dbf_github_calls_total"]

    def inc(self, name: str, **labels: str) -> None:
        self.counters[name][tuple(sorted(labels.items()))] += 1

    def render(self, gauges: dict[str, float] | None = None) -> str:
        lines = []
        for name, counter in self.counters.items():
            lines += [f"# HELP {name} {HELP[name]}", f"# TYPE {name} counter"]
            for labels, value in sorted(counter.items(), key=lambda item: str(item[0])):
                if isinstance(labels, str):  # the GitHub call counter is keyed by method
                    labels = (("method", labels),)
                text = ",".join(f'{k}="{v}"' for k, v in labels)
                lines.append(f"{name}{{{text}}} {value}" if text else f"{name} {value}")
        for name, value in (gauges or {}).items():
            lines += [f"# TYPE {name} gauge", f"{name} {value}"]
        return "\n".join(lines) + "\n"
