"""Web contact form channel: a hosted page per channel account, embeddable on any site."""
