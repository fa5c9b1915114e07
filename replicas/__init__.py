"""Replica portals: local servers imitating the CMS families of 医保局 portals (127.0.0.1 only)."""
