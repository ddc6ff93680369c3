"""One browser tab in which the demo users take turns: the steps the browser walks share."""

from __future__ import annotations


def sign_in(page, base: str, username: str) -> None:
    """Sign in as a demo user on the login page; 待办 opens."""
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", "oaflow-demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/inbox/todo")


class Office:
    """Sign in as a demo user, open a task from 待办, approve it (filling any fields the step asks for)."""

    def __init__(self, page, base: str):
        self.page = page
        self.base = base
        self.user = None

    def login(self, username: str) -> None:
        if self.user is not None:
            self.page.click("text=退出")
            self.page.wait_for_url("**/login")
        sign_in(self.page, self.base, username)
        self.user = username

    def open_task(self, title: str, node: str | None = None) -> None:
        """From 待办, open the task whose title contains `title`; when `node` is given, it must be at it."""
        self.page.goto(f"{self.base}/inbox/todo")
        self.page.click(f"table.inbox a:has-text('{title}')")
        self.page.wait_for_url("**/work-items/*")
        if node is not None:
            assert node in self.page.inner_text("main")

    def approve(self, opinion: str | None = None, **fields) -> None:
        for name, value in fields.items():
            widget = self.page.locator(f"[name={name}]").first
            if widget.evaluate("e => e.tagName") == "SELECT":
                widget.select_option(value)
            else:
                widget.fill(value)
        if opinion is not None:
            self.page.fill("#d-opinion", opinion)
        self.page.click("button[value=approve]")
        self.page.wait_for_url("**/inbox/todo*")
