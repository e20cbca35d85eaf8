"""Brands (the tenants), staff users and their roles, guest viewers."""
