"""The caseworkers' web console, served under /console on the public listener."""
