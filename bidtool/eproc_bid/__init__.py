"""eproc-bid: the bidder's tool. It needs only `cryptography`, `rfc8785` and the standard library, and
shares no code with the platform: the formats it makes and checks are those of the platform's
docs/formats.md, re-implemented here in a few lines."""
