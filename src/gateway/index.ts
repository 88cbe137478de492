// `ekaf/gateway`: kafboy, the HTTP gateway, for programs that embed it.
//
//   import { serve } from 'ekaf/gateway';
//   const served = await serve({ producerOptions: { brokers: 'localhost:9092' }, port: 8080 });
//
// `serve` makes its own producer and adds graceful shutdown; `startGateway` puts a gateway in
// front of a producer the program already has; `visualizerRoutes()` is the live visualizer, to
// pass as `extraRoutes` to either (`ekaf serve` does).
export { serve, type ServeOptions, type Served } from './serve.js';
export { startGateway, GATEWAY_DEFAULTS, type Gateway, type GatewayOptions } from './server.js';
export { visualizerRoutes, type ExtraRoutes } from './visualizer.js';
