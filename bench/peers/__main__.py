"""`python -m bench.peers`: install the peers' node_modules (npm ci with the wheel's npm)."""

from bench.peers import ensure_installed, node_binary

if __name__ == "__main__":
    ensure_installed()
    print(f"bench/peers ready (node: {node_binary()})")
