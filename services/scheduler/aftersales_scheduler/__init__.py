"""The scheduler: decides who is contacted, why and when (D6-D13), with durable timers."""
