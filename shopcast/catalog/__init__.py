"""The shop: products and stock, episode lineups and pins, carts with holds, checkout and orders."""
