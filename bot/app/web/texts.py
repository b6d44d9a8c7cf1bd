"""What the setup callback tells a person when it cannot finish: named (title, message) pairs,
so that the wording is reviewed in one place (the pages themselves are in templates/)."""

from __future__ import annotations

NOT_STARTED_HERE = ("This link did not start here",
                    "The setup link is not one this server handed out, was used already, or is more than an hour "
                    "old. Start again from the setup page.")
NO_CODE = ("No code from GitHub", "GitHub's redirect carried no usable code. Start again from the setup page.")
CODE_REFUSED = ("GitHub did not accept the code",
                "GitHub answered {answer}: the code was used already or has expired (codes last one hour). Start "
                "again from the setup page; if GitHub created an app anyway, delete it in its settings.")
GITHUB_UNREACHABLE = ("GitHub could not be reached",
                      "{error}. Reload this page to try the same code again (it stays valid for an hour).")
NOT_AN_APP = ("GitHub's answer was not an app",
              "The conversion did not return an id, a private key, a webhook secret and the app's page.")
