"""The Zalo Official Account (OA API v3): a province's or commune's official account.

``client`` sends customer-service messages (real buttons, a numbered text fallback, images by
upload); ``tokens`` keeps the ~25 h access token fresh with the single-use, rotating refresh
token stored in the database (``storage.oa_tokens``); ``oauth`` makes the PKCE consent URL and
exchanges the admin's code; ``signature`` and ``webhook`` check incoming events; ``events``
turns them into ``Inbound``; ``errors`` is the one error map; ``neutral`` the bridge to the
outbox's neutral send errors.
"""
