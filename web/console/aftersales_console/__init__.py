"""The web console's backend (issue 13): the built pages, a same-origin proxy to the five
services' public HTTP APIs, and, outside production, a demo sign-in by the local issuer."""
