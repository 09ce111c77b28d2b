"""libtorrent settings for a private DHT on 127.0.0.1, shared by the interop helpers.

With its defaults libtorrent keeps one node per IP, enforces BEP 42 ids and rate-limits a busy address, so
several nodes on one loopback address would never find each other. It also multicasts LSD and asks routers for
ports (UPnP, NAT-PMP), and tests must not. Callers add their own listen port, bootstrap nodes and alert mask.
"""


def private_dht_settings(port, bootstrap):
    return {
        "listen_interfaces": f"127.0.0.1:{port}",
        "enable_dht": True,
        "dht_bootstrap_nodes": bootstrap,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        "dht_enforce_node_id": False,
        "dht_prefer_verified_node_ids": False,
        "dht_ignore_dark_internet": False,
        "dht_block_ratelimit": 100000,
        "dht_upload_rate_limit": 1000000,
    }
