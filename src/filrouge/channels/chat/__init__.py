"""Live chat: the widget on customers' sites, its visitors, and replies pushed to their sockets."""
