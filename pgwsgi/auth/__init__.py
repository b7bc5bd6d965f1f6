"""Authentication: the Authorization header -> verified claims -> the role of the request.

python-jose is used in here only. `Authenticator` verifies tokens (with a cache),
`mint_token` signs claims with the configured key.
"""

from pgwsgi.auth.jwt import Authenticator, CacheStats, Identity, mint_token

__all__ = ["Authenticator", "CacheStats", "Identity", "mint_token"]
