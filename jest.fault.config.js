// The fault suite stops RabbitMQ and PostgreSQL: it runs alone, after every other test.
const base = require('./jest.config.js');

module.exports = {
  ...base,
  roots: ['<rootDir>/test/fault'],
  testMatch: ['**/*.fault-spec.ts'],
  maxWorkers: 1,
  testTimeout: 600_000,
};
