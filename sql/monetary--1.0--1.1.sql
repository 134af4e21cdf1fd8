\echo Use "ALTER EXTENSION monetary UPDATE TO '1.1'" to load this file. \quit
-- monetary 1.0 -> 1.1
