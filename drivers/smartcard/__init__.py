"""Smart cards: the citizen's social-security card (SSSE application) and the PSAM, over PC/SC.

``api`` holds the typed shapes the services layer uses (``CardService``, outcomes, events);
``factory.make_card_service`` builds the concrete service. See docs/smartcard.md.
"""
