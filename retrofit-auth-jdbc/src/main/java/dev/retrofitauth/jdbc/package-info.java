/**
 * A {@link dev.retrofitauth.SharedTokenStore} in a SQL table through the app's {@link
 * javax.sql.DataSource}: {@link dev.retrofitauth.jdbc.JdbcTokenStore}.
 */
@NullMarked
package dev.retrofitauth.jdbc;

import org.jspecify.annotations.NullMarked;
