"""The offers app's pages, one module per part: ``pages`` (making an offer, a professional's offers, the
producers' comparison), ``thread`` (an offer and its live negotiation) and ``memo`` (an agreement's deal
memo, as a page and a PDF). URLs in ``offers.urls``."""
