"""Workshop appointments (预约, D31): booked on a call, reminded, kept or missed."""
