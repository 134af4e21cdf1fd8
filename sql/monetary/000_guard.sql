\echo Use "CREATE EXTENSION monetary" to load this file. \quit
