\echo Use "ALTER EXTENSION payments UPDATE TO '1.1'" to load this file. \quit
-- payments 1.0 -> 1.1
