\echo Use "CREATE EXTENSION payments" to load this file. \quit
