"""Catalogue examples by family: each module defines ``EXAMPLES`` (name -> Example) and may
define ``NOTES`` (name -> one-line note); :mod:`gfx.catalogue` merges them."""
