"""The Zalo Bot Platform (personal bots, ``bot-api.zaloplatforms.com/bot<TOKEN>/<method>``).

A thin httpx client (``client``), the one error map (``errors``), update parsing into the
channel-neutral ``Inbound`` (``updates``), the webhook request check (``webhook``) and a
development-only polling loop (``polling``). Nothing here knows the registry or the outbox;
``neutral.to_send_error`` is the only bridge to the neutral send errors of ``base.py``.
"""
