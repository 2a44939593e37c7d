// An echo server on node's ws with perMessageDeflate on (its defaults): a
// real peer for wsm's deflate offer. Prints 'listening on URL', then for each
// connection the extension answer it gave ('ANSWER ...'), and after each
// echo the bytes it has read from the socket so far ('READ n'): a
// compressed message arrives in fewer bytes than it holds. Stops by itself
// after 60 s, or at SIGTERM.
//   NODE_PATH=DIR/node_modules node deflate_echo_node.js
const { WebSocketServer } = require('ws');

const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: true });
server.on('headers', (headers) => {
  const answer = headers.find((h) => h.toLowerCase().startsWith('sec-websocket-extensions:'));
  console.log('ANSWER ' + (answer ? answer.slice(answer.indexOf(':') + 1).trim() : ''));
});
server.on('connection', (ws, request) => {
  ws.on('message', (data, isBinary) => {
    ws.send(data, { binary: isBinary }, () => console.log('READ ' + request.socket.bytesRead));
  });
});
server.on('listening', () => console.log(`listening on ws://127.0.0.1:${server.address().port}/`));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
setTimeout(() => process.exit(0), 60000).unref();
