package dev.retrofitauth.sample.readme;

// readme:begin quickstart-token-json
import com.squareup.moshi.Json;

/** What the token endpoint answers. In its own file: Moshi cannot create an inner class. */
class TokenJson {
  @Json(name = "access_token") String accessToken;
  @Json(name = "refresh_token") String refreshToken;
}
// readme:end
