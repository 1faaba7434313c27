"""The gettext catalogs (``<lang>/LC_MESSAGES/<concern>.po``), shipped as package data.

A package of its own so that an installed wheel carries them: ``kernel.i18n`` finds them with
``importlib.resources``, whether papi-bot runs from the checkout or from site-packages.
"""
