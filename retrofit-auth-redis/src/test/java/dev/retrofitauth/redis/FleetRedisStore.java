package dev.retrofitauth.redis;

import dev.retrofitauth.TokenStore;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import java.util.concurrent.TimeUnit;

/**
 * The store of a fleet worker process ({@code dev.retrofitauth.fleet.FleetWorker}, store argument
 * {@code class:dev.retrofitauth.redis.FleetRedisStore:<port>,<key>,<lease TTL in ms>}): a Redis
 * store on a connection of the worker's own, which ends with the process.
 */
public final class FleetRedisStore {
  public static TokenStore create(String arg) {
    String[] parts = arg.split(",");
    RedisClient client =
        RedisClient.create(RedisURI.create("127.0.0.1", Integer.parseInt(parts[0])));
    return RedisTokenStore.builder(client.connect())
        .key(parts[1])
        .leaseTtl(Long.parseLong(parts[2]), TimeUnit.MILLISECONDS)
        .build();
  }

  static String spec(TestRedis redis, String key, long leaseTtlMillis) {
    return "class:"
        + FleetRedisStore.class.getName()
        + ":"
        + redis.port
        + ","
        + key
        + ","
        + leaseTtlMillis;
  }

  private FleetRedisStore() {}
}
